"""Results: collectors that summarise the people arrays, and atomic output files."""
