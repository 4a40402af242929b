from saleor_alipay_app.cli import main

main()
