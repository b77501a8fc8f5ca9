"""Pure logic for the teaching dashboard: data, models, training, jobs, metrics, plots. No streamlit here."""
