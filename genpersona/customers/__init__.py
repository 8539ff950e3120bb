"""genpersona.customers"""
