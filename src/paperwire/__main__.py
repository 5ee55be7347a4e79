from paperwire.cli import app

app()
