"""agingsim's Streamlit front end: ``streamlit run app.py`` (the page lives in agingsim.app.page)."""

from agingsim.app.page import main

main()
