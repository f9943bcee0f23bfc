"""Orders (订单): taking one and its steps (:mod:`.steps`), the rules that look past the order
(:mod:`.rules`), money on it (:mod:`.money`), rating and rework (:mod:`.aftercare`), the orders a
contract's schedule stands for (:mod:`.recurring`), the list (:mod:`.listing`) and the worker's
sheet (:mod:`.sheet`)."""
