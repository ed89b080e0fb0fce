from tillit.cli.main import app

app(prog_name="tillit")
