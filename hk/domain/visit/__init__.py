"""Return visits (回访, SPEC §4): the visit record and its lifecycle (:mod:`.model`), and which
visits a customer is owed and by when (:mod:`.owed`)."""
