"""genpersona.brands"""
