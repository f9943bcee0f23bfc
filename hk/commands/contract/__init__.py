"""``hk contract``: the Typer app (:mod:`.app`), parsing and printing (:mod:`.view`)."""
