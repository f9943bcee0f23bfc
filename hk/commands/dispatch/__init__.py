"""``hk dispatch``: the Typer app (:mod:`.app`) and its parts: plan, check and pin (:mod:`.plan`),
placement matching (:mod:`.match`), the day sheets (:mod:`.sheet`)."""
