"""Privacy requests: a customer's data erased or exported, and how long signals are kept."""
