"""Rasa configuration, domain, channels and the custom NLU components they load."""
