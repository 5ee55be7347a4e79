import pytest

from paperwire.ids import InvalidArxivId, derived_paper_id, is_arxiv_id, normalise_title, parse_arxiv_id


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("2310.12345", ("2310.12345", None)),
        ("2310.12345v3", ("2310.12345", 3)),
        ("0704.0001", ("0704.0001", None)),
        ("hep-th/9901001", ("hep-th/9901001", None)),
        ("hep-th/9901001v2", ("hep-th/9901001", 2)),
        ("math.OC/0501001", ("math.OC/0501001", None)),
        ("https://arxiv.org/abs/2310.12345v2", ("2310.12345", 2)),
        ("http://arxiv.org/pdf/2310.12345v1.pdf", ("2310.12345", 1)),
        ("arXiv:2401.00001", ("2401.00001", None)),
        ("oai:arXiv.org:hep-th/9901001", ("hep-th/9901001", None)),
        ("  2310.12345  ", ("2310.12345", None)),
    ],
)
def test_parse_arxiv_id(text, expected):
    assert parse_arxiv_id(text) == expected


@pytest.mark.parametrize("text", ["", "hello", "2310.123", "12345.67890", "HEP-TH/9901001", "2310.12345v", "../etc/passwd"])
def test_invalid_ids_are_rejected(text):
    assert not is_arxiv_id(text)
    with pytest.raises(InvalidArxivId):
        parse_arxiv_id(text)


def test_derived_id_is_stable_across_spelling_noise():
    a = derived_paper_id("Attention Is All You Need")
    assert a == derived_paper_id("  attention is   all you need! ")
    assert a.startswith("pw-") and len(a) == 15
    assert a != derived_paper_id("Attention Is Not All You Need")


def test_normalise_title_strips_accents_and_punctuation():
    assert normalise_title("Schrödinger's Cat: A—Study") == "schrodinger s cat a study"
