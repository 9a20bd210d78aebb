"""Fashion studio: the Streamlit entry point (`streamlit run app.py`)."""

from pathlib import Path

import streamlit as st

from core.warmup import warm_imports
from pages.common import database_guard

ROOT = Path(__file__).parent
PAGES = [  # (script, title, icon): every page of the product, in menu order
    ("pages/home.py", "Home", "🏠"),
    ("pages/search.py", "Search", "🔎"),
    ("pages/refine.py", "Refine", "💬"),
    ("pages/outfits.py", "Outfits", "🧥"),
    ("pages/explore.py", "Explore", "🗺️"),
    ("pages/customers.py", "Customers", "🛍️"),
    ("pages/models.py", "Models", "🧠"),
]

st.set_page_config(page_title="Fashion Studio", page_icon="👗", layout="wide")
pages = [st.Page(path, title=title, icon=icon, default=(i == 0))
         for i, (path, title, icon) in enumerate(PAGES) if (ROOT / path).exists()]
with database_guard():  # the database lost mid-page: one line, not a traceback
    st.navigation(pages).run()
warm_imports()  # torch, scikit-learn, plotly: loaded while the first page is read
