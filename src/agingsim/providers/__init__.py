"""Care providers as Mesa agents: bed providers (institutions, centres, stations) and home-care agencies."""

from agingsim.providers.agents import BedProvider, HomeCareAgency, growth_share, profit_per_bed_year

__all__ = ["BedProvider", "HomeCareAgency", "growth_share", "profit_per_bed_year"]
