"""Records in and out of spreadsheets: the columns hk knows (:mod:`.tabular`), one row to a
record's fields (:mod:`.fields`), import (:mod:`.importing`) and export (:mod:`.export`)."""
