"""genpersona.cli"""
