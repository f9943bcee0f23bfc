"""``hk order``: the Typer app (:mod:`.app`), parsing and printing (:mod:`.view`), ``hk order
generate`` (:mod:`.generate`)."""
