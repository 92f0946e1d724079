"""Interview instruments as data: loading, validation, skip logic, forms, XLSForm, submissions.

Plain modules: nothing here imports the Flask app, the models or `current_app`.
"""
