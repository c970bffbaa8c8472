"""`python -m mlrollup`: the same as the `mlrollup` command."""

from mlrollup.cli import app

app(prog_name="mlrollup")
