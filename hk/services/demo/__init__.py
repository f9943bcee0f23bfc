"""The demo archive: a small Chengdu company built fresh (:mod:`.build`), its work replayed
through hk's own services (:mod:`.business`)."""
