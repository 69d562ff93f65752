/ Python models through PyKX or embedPy. Without either bridge, every Python path is an
/ error that says what to install.

/ @overview Python facts for .version.info (:: without a bridge or for q models)
/ @param modelType {string} the model type
/ @return {dict|null} python_version, python_library_version
.ml.registry.i.env:{[modelType]$["q"~modelType;::;::]}

/ @overview Load a Python model file
.ml.registry.i.py.load:{[modelType;path]
  '"mlregistry: loading the ",modelType," model ",path," needs a Python bridge: load PyKX (or embedPy) first"}

/ @overview Load a .p or .py code file
.ml.registry.i.py.code:{[path]
  '"mlregistry: ",path," needs a Python bridge: load PyKX (or embedPy) first"}
