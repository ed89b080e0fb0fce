"""Data requests (GDPR 15, 17, 20, 21): the staff queue, the export and erasure. Each area with
personal data takes part through its own ``privacy`` module, listed once in
:mod:`tillit.privacy.areas`."""
