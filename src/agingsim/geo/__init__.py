"""Geography of elderly care: communities, the 15-minute service circle (15分钟养老服务圈) and siting.

Public entry points:

* :func:`load_geography` — read a geography (calibration/geo/<name>.toml and the CSV/GeoJSON tables it
  names); a scenario's ``[geography]`` section loads it into ``scenario.geography``;
* :func:`county_access` — share of elders (and of elders in need) within a 15-minute walk of an open
  centre or station, and the mean walk, by year and county: the link to the behaviour model;
* :func:`nearest_facility` — per community, the nearest open facility and the walk to it;
* :func:`site_facilities` — where to build next (maximal covering location problem, exact MILP).
"""

from agingsim.geo.coverage import county_access, coverage_by_community, nearest_facility, space_standards
from agingsim.geo.geography import Geography, WalkParams, load_geography
from agingsim.geo.siting import site_facilities

__all__ = [
    "Geography",
    "WalkParams",
    "county_access",
    "coverage_by_community",
    "load_geography",
    "nearest_facility",
    "site_facilities",
    "space_standards",
]
