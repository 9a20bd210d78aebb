"""Fashion studio core: all logic behind the pages and the CLI. Never imports streamlit."""
