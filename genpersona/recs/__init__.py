"""genpersona.recs"""
