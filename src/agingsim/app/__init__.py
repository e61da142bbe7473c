"""The Streamlit front end's logic (issue 6), kept out of ``app.py`` so it can be tested without a page.

``levers`` finds the values a user may change in a scenario file, with units and provenance;
``runs`` loads a scenario with the user's changes and runs it once per distinct setting (cached);
``figures`` turns a run into the headline numbers the page shows; ``page`` draws the page. Charts and
downloads come from :mod:`agingsim.report`, the module behind ``agingsim report``.
"""
