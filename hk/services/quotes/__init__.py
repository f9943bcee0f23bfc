"""Quotes (报价单): making and answering one (:mod:`.steps`), accepting it as orders
(:mod:`.accept`) or as a contract (:mod:`.contract`), and the document (:mod:`.document`)."""
