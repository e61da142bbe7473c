"""Policy as data: dated parameters (dated.py) and eligibility rules over people's attributes
(rules.py), evaluated on the grid of attribute combinations rather than per person."""
