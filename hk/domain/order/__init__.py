"""Orders (订单, SPEC §2–§3): the record (:mod:`.model`), its lifecycle table (:mod:`.status`)
and the steps that move it along (:mod:`.steps`)."""
