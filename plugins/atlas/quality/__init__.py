"""Data quality: checks generated from the source YAML (``checks``), rendered as SodaCL
(``sodacl``), Soda's scan results read back (``results``); the stages run them through
``atlas.hooks.soda`` and record them through ``atlas.hooks.quality``."""
