from setuptools import find_packages, setup

setup(
    name="shop-site",
    version="0.3.0",
    description="A tiny catalogue, one of the course's examples",
    packages=find_packages(),
    install_requires=["django>=5.2,<6"],
)
