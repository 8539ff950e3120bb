"""genpersona.data"""
