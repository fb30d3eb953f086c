module hoarebench

go 1.19
