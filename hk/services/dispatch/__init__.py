"""Dispatch (派工) over an archive: plan a day (:mod:`.plan`), check it (:mod:`.check`), match
workers to placements (:mod:`.match`) and each worker's day sheet (:mod:`.sheet`)."""
