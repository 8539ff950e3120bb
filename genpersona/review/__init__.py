"""genpersona.review"""
