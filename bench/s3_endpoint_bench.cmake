# Included from bench/CMakeLists.txt: the load generator of s3_endpoint_bench.sh (signed PUT/GET
# from N clients over cpp-httplib; the thumbflow server itself runs as `thumbflow serve`).
add_executable(thumbflow_s3_endpoint_bench ${CMAKE_CURRENT_LIST_DIR}/s3_endpoint_bench.cpp)
target_link_libraries(thumbflow_s3_endpoint_bench PRIVATE thumbflow_aws PkgConfig::THUMBFLOW_HTTPLIB Threads::Threads
                      thumbflow_warnings)
