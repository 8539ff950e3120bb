"""genpersona.api"""
