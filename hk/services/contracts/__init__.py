"""Contracts (合同): their lifecycle (:mod:`.steps`) and the document customers sign, with its
signatures (:mod:`.document`)."""
