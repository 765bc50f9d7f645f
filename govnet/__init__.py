"""govnet: run city and county e-government networks (政务内网 / 政务外网)."""

__version__ = "0.1.0"
