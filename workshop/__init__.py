"""The workshop beside the product: benchmarks, their question sets, test doubles, training.

It imports the product (``bot``, ``index``) and nothing there imports it at module level:
``newsdesk bench`` and ``newsdesk train`` load ``workshop.commands`` only when named. The wheel
carries this code but not the question sets (``bench/data``), which are read from the checkout.
"""
