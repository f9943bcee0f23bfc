"""``hk quote``: the Typer app (:mod:`.app`), parsing and printing (:mod:`.view`)."""
