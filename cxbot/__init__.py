"""cxbot: customer-experience signals from every channel, stored durably and brought to Slack."""

__version__ = "0.1.0"
