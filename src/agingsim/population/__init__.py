"""The population: people arrays (people.py), the vocabulary of their attributes (attributes.py),
compiled conditional margins (margins.py) and synthesis from a region's margins (synth.py)."""
