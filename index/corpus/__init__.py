"""Files into articles, sentences and passages. Imports only ``index.errors``."""
