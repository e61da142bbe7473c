"""Delivery: home-care hours asked for in each county, delivered within its carers' capacity.

The share delivered is what schemes paying on delivery (``payment = "delivered"``) pay on, and what
the next reviewers see as the county's carer shortfall.
"""

from __future__ import annotations

import numpy as np

from agingsim.choice.mnl import FAMILY_BED, HOME


class Delivery:
    """Hours from the counts by (county, setting, level) to the agencies (Mesa HomeCareAgency
    agents, ``self.agencies``), and the delivered shares (``self.delivered``)."""

    def _deliver(self, counts: np.ndarray) -> None:
        """This month's hours: people at home and in family beds by level, times their hours."""
        hours = (counts[:, HOME, :5] @ self.hours) + (counts[:, FAMILY_BED, :5] @ self.bed_hours)
        share = np.array([a.deliver(hours[c]) for c, a in enumerate(self.agencies)])
        for a in self.agencies:
            a.adjust()
        self.delivered[:, HOME] = share
        self.delivered[:, FAMILY_BED] = share
