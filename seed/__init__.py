"""Offline gazetteer loader and synthetic data generators (DESIGN §4, §5)."""
