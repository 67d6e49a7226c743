document.getElementById("root").textContent = "Front end build: sample 1.0.0";
