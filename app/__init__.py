"""The marketers' review console (Streamlit). Talks to ``genpersona`` only, never to a model."""
