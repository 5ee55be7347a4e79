"""Importers and harvesters: each module turns one upstream format into
:class:`paperwire.records.PaperRecord` objects. ``importer`` batches them into
the store; ``formats`` picks the reader for a file."""
