print("convlens: under construction")
