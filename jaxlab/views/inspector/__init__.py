"""The IR inspector's views: ``model`` builds the view model of an :class:`jaxlab.Inspection`,
``html`` draws it as static HTML, ``widget`` serves it to the live front end (``extension/``),
``summary`` holds the text summary and the tables of timings, XLA's analyses and fusions."""
