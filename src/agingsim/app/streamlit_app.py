"""The page's script for ``agingsim app`` (the checkout's app.py is the same, for ``streamlit run``)."""

from agingsim.app.page import main

main()
