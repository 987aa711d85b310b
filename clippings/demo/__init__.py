"""The bundled demo press site that `clippings demo` crawls, with its ground truth."""

from clippings.demo.site import DemoPage, DemoSite, load_pages

__all__ = ["DemoPage", "DemoSite", "load_pages"]
